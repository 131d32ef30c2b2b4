"""A small event hierarchy the bus tests share."""

from __future__ import annotations

from salesbus.bus import Event


class Animal(Event):
    type_name = "tests.Animal"
    name: str = "animal"


class Dog(Animal):
    type_name = "tests.Dog"


class Puppy(Dog):
    type_name = "tests.Puppy"


class Cat(Animal):
    type_name = "tests.Cat"
    lives: int = 9


class Tick(Event):
    type_name = "tests.Tick"
    n: int
