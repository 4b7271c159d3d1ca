"""Evaluation of trained models beyond a loss: sample-quality scores for generative models."""
