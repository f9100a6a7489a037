"""Fusion stage: fusion inputs from frozen VGAE + GAT, the DQN's Lightning module data, comparators."""
