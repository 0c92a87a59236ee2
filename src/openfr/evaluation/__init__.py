"""Accuracy measurement on labelled data: verification pairs now, 1:N and equity later."""
