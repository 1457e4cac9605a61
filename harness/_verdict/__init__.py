"""Verdicts on what was delivered: checks, parity, similarity, embeddings."""
