"""Presets are registered from kdgat-schemas' `DOMAIN_HAS_VOCABULARY` without importing an adapter:
every adapter must say the same."""

import pytest
from kdgat_data.domains import adapter_for
from kdgat_schemas import DOMAIN_HAS_VOCABULARY, DOMAINS


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_adapter_agrees_with_the_declared_vocabulary(domain):
    assert adapter_for(domain).has_vocabulary is DOMAIN_HAS_VOCABULARY[domain]
