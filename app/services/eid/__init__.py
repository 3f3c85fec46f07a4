"""(staging: becomes services/identity/ once the layout lands)"""
