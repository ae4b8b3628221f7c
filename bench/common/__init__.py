"""What every bench shares: statistics, processes, Kafka plumbing, the workload, the machine."""
