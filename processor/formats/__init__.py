"""Input formats other than the JSON claim event: X12 837P (with its acknowledgments) and
FHIR R4 `Claim`. Plain Python over the models: nothing here knows of Kafka."""
