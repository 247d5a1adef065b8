package io.jkvm.boot.acpi;

/** How an interrupt line signals: on an edge or while at a level. */
public enum InterruptTrigger { EDGE, LEVEL }
