"""Cine in the studio: the ED and ES key frames and the timeline that makes and plays the loop."""
