"""The handouts' own interfaces (the starter code's names and signatures), each backed by
practica's implementation, so a learner compares like with like (``practica check``)."""
