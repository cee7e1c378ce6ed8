"""MITRE ATT&CK in the warehouse: releases read from STIX bundles (`bundle`), stored and queried (`store`), compared
(`diff`), exported as Navigator layers (`navigator`), and reports mapped to techniques (`mapper`)."""
