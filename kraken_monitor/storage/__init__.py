"""SQLite journal (sqlite-utils): ticks, snapshots, alerts, actions, paper account."""
