"""Renderers: a Plan (or an apply result) in, a string out. They decide nothing."""
