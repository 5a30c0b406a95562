"""claims-processor: scrub professional medical claims before they reach a payer."""

__version__ = "0.1.0"
