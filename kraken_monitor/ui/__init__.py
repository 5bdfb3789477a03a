"""Qt widgets: main window, positions table, chart, dialogs, popups."""
