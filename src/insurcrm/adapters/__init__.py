"""insurcrm."""
