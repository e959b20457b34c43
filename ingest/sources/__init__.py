"""Sources: what gateways and devices publish (ThingsBoard, Sparkplug B, Neuron, line protocol,
mapped JSON), decoded by configuration into the readings, events and statuses of the native path."""
