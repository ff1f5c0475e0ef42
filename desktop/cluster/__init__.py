"""Running on more than one device: worker processes on this computer and Ray actors on a cluster.

No Qt. Each device gets one pipeline owner (``owner.PipelineOwner``) that keeps its own pipelines; jobs are
packed with the pictures they read, so they run the same on this computer or on another node, and the results
come back to be saved here. The engine and Ray are imported only inside a worker process, an actor or once a
cluster is joined: importing this package imports neither.
"""
