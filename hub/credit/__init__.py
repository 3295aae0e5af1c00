"""Quality credit evaluations: the history of grades behind an enterprise's current grade."""
