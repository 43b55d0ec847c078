from tests.fixtures_chain import *  # noqa: F403 - the shared fixtures
