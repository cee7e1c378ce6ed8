"""Behaviour monitoring: keystroke, mouse and app-usage dynamics, enrolment and continuous verification."""
