"""Widgets: one small panel per file, composed by MainWindow.

May import QtWidgets/QtGui and the model layer; never torch or diffusers (the window must open before they
load). Panels observe the SessionModel and call its actions; they hold no business logic.
"""
