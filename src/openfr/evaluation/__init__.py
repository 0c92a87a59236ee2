"""Accuracy measurement on labelled data: verification pairs, error rates per demographic group (equity), a
pack's identification calibration (1:N), and the OIFR benchmark."""
