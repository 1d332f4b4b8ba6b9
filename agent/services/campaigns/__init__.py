"""Access review campaigns: every client manager decides on their clients' access.

* ``start`` snapshots every practice person's access from the latest ok scans into
  items, each in one reviewer's list;
* ``decisions`` records keep / remove / not my client / already gone (one or in bulk);
  a remove decision becomes a removal plan item, approved like any other;
* ``progress`` follows the items after their decision (a scan confirms what is gone,
  a removal is verified or handed to the client), reports progress by reviewer and
  closes a campaign when nothing is left;
* ``notices`` sends each reviewer the invitation, the reminder before the due date
  and, after it, hands open items to the client's partner.
"""
