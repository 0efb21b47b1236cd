"""The payments pages, by audience: backers (backer), organizers (organizer), the sandbox's imitation processor (sandbox)."""
