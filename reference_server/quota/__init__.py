"""Request quotas per client and UTC day, as the seed's "Quota Configuration" describes."""
