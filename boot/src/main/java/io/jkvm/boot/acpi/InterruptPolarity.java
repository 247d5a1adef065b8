package io.jkvm.boot.acpi;

/** Which level (or edge direction) of an interrupt line is active. */
public enum InterruptPolarity { ACTIVE_HIGH, ACTIVE_LOW }
