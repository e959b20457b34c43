"""Who does the work: technicians, teams, rosters, and automatic assignment."""
