from tests.fixtures_chain import anvil_url, database_url, make_database, stack  # noqa: F401
