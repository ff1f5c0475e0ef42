"""Observable state of a session: parameters, the current job, settings.

QtCore only (signals and QSettings): no widgets, no torch. Widgets observe these objects; they never hold
state of their own that the model does not have.
"""
