"""The security suite (issue 15): hostile plugins, limits and grants, each refused or contained
with an error naming the rule. A package, so its modules' names cannot clash with tests/'s."""
