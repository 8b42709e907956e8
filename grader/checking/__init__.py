"""What the checks call: proxies for the student's items, comparisons that read as feedback, known mistakes, strategies, stand-ins."""
