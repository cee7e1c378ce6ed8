"""Threat intelligence: indicators from text (`extract`), feeds in the warehouse (`feeds`, `stix`, `store`), and
matching events against every indicator (`match`, `_kernels`)."""
