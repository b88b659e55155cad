"""Live synthesis: a model host (no Qt), where it runs (a child process, or threads), and the
controller that keeps the picture in step with the mask.

``jobs``      what is asked and what comes back (plain dataclasses)
``host``      load a model and render one label map with it (no Qt; runs in the child)
``server``    the child process's loop
``backends``  the child process, or in-process threads, behind one Qt interface
``live``      the controller the window talks to
"""
