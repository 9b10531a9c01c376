{#
    cdp.sha256 gives the standard digest on every engine (FIPS 180-2 test vector for
    'abc'), so salted hashes computed on DuckDB and PostgreSQL match. Fails with the
    digest when it differs.
#}
with

digest as (
    select {{ cdp.sha256("'abc'") }} as abc_sha256
)

select abc_sha256
from digest
where abc_sha256 <> 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
