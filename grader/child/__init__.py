"""The only code that runs beside student code: the template, the request loop, execution, model
queries, the namespace guard.

It imports only `grader.protocol`, `grader.child` and `d2lcompat`: what it imports is mounted in the
sandbox, and what is mounted, student code can read.
"""
