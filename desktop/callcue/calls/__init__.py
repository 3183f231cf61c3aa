"""Where a call lives: set up, run and fed, between the front ends (commands/, ui/) and the libraries.

  feed.py     the one loop that feeds a recording and its words into the engine
  offline.py  a recording analysed as fast as the machine goes (`analyze`, `analyze --save`, replay)
  words.py    a transcript as the live pipeline's source of words (the demo without a model)
  live.py     the live pipeline: capture -> engine (one worker thread) <- recognizers
  recipe.py   one live call: playbook, devices or recording, model, engine, recorder, pipeline
  session.py  what a call reports to a front end (events, ticks, phases) and how controls reach it;
              plain Python: no Qt, no threads, no wall clock
  runner.py   runs a session's call on the calling thread until it ends or is stopped
"""
