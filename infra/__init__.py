"""CDK constructs of the pixy-whatsapp stack, and the topology the local stack shares."""
