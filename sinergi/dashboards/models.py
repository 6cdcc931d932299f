"""Dashboards read what the other apps hold; they keep no tables of their
own yet (saved views and map layers come with the dashboards issue)."""
