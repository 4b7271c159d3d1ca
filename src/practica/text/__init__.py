"""Character-level text generation: sampling conventions, completion, beam search, and the
analysis of a min-char-rnn's weights. ``sampling`` needs only NumPy; the LSTM side lives in
:mod:`practica.models.char_lstm` and :mod:`practica.text.lstm`."""
