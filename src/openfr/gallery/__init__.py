"""Galleries: enrolment into the identity store, vector indexes, and 1:N candidate search."""
