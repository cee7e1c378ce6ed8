"""Host monitoring: metric sampling, streaming anomaly detection, alert rules and NAB scoring."""
