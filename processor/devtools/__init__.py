"""Developer tooling: the local stack (Kafka, workers, output collector), the demo, the
benchmark, the sample claims and the claim generator."""
