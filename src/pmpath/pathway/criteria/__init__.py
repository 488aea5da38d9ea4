"""Criterion adapters: each turns dossier evidence into plain inputs for an analysis package and its result into a Verdict."""
