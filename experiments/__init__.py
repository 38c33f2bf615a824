"""Experiments that back the course's claims with measurements: run each as a script."""
