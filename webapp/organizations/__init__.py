"""Organizations of the social and solidarity economy and the people who edit them."""
