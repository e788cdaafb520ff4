"""Signal receivers of the org layer, connected in OrgsConfig.ready()."""
