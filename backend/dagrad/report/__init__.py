"""Reporting: statistics and payloads of the tensors a run kept, and the API's response models
built from them (stats.py, payload.py, response.py). It reads the interpreter's result; nothing
below it imports it."""
