"""Triage (分流): the text classifier, the township resolver and their evaluation. Pure code but for reading
and writing model files; activities and the command line call it."""
