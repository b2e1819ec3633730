"""The application around the library: the command line and what it runs.

``cli.py`` builds the parser and runs a subcommand; each subcommand's options and body live in
a module of their own (``train_command.py``, ``predict_command.py``, ``sweep_command.py``; the
demo, the self-check and the benchmark in ``demo.py``, ``selfcheck.py`` and ``bench.py``).
``plots.py`` draws the figures (matplotlib, optional) and ``memory.py`` estimates what a
training run needs before anything is allocated. Nothing in the library imports this folder.
"""
