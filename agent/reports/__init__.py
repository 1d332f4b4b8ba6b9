"""The reports a practice takes away: leaver, access matrix, workload, exceptions, evidence.

One module per report. Each gathers its rows with queries that return plain
dataclasses (streamed where a report can be large) and hands them to a writer:
``agent.reports.xlsx`` for workbooks, ``agent.reports.csvsafe`` for CSV. Every
report takes a scope (the client ids its viewer may see, or ``None`` for all) and
prints it on every sheet.
"""
