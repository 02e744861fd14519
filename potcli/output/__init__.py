"""What a run leaves on disk: files staged and swapped in atomically, and report.json."""
