"""The engines that drive the stages: the local process pool (default) and Ray."""
