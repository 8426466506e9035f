"""Deployment helpers: the scale-out smoke deployment (scaleout.sh) and its Python steps."""
