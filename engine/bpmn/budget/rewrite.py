"""The rewrite of diagram code: checkpoints in loops and calls, risky operations through the guards."""
from __future__ import annotations

import ast

from engine.bpmn.budget.limits import AUG_ITEM, CALL, CMP, CMP_IN, FMT, KEY, NAMESPACE, SLICE, STAR, TICK

# ---- the rewrite ------------------------------------------------------------------------------

class Refused(Exception):
    """A construct the budget cannot guard (reported like any other sandbox problem)."""


def instrument(tree: ast.AST) -> ast.AST:
    """Insert the checkpoints and route the risky operations through the guards (see the module doc)."""
    return ast.fix_missing_locations(_Instrument().visit(tree))


def guarded(tree: ast.AST) -> bool:
    """Whether instrumented code calls any guard. Code that calls none has no loop, call, operator on
    data, slice or comparison of two data values: it runs in time bounded by its length and needs no budget."""
    return any(isinstance(node, ast.Name) and node.id == NAMESPACE for node in ast.walk(tree))


def _scalar(node: ast.AST) -> bool:
    """A literal that compares with anything in constant time: a constant, or a display of constants."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    return isinstance(node, ast.Constant)


def _helper(name: str, args: list, at: ast.AST) -> ast.Call:
    guard = ast.Attribute(ast.Name(NAMESPACE, ast.Load()), name, ast.Load())
    return ast.copy_location(ast.Call(guard, args, []), at)


def _tick_statement(at: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(_helper(TICK, [], at)), at)


def _none(node, at):
    return node if node is not None else ast.copy_location(ast.Constant(None), at)


class _Instrument(ast.NodeTransformer):
    """Children first, then the node: a helper call built here is never visited again."""

    def _ticked_body(self, node):
        self.generic_visit(node)
        node.body.insert(0, _tick_statement(node))
        return node

    visit_While = visit_For = visit_FunctionDef = visit_ExceptHandler = _ticked_body

    def visit_Try(self, node):
        self.generic_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, _tick_statement(node.finalbody[0]))
        return node

    visit_TryStar = visit_Try

    def visit_comprehension(self, node):
        self.generic_visit(node)
        node.ifs.insert(0, _helper(TICK, [], node.iter))
        return node

    def visit_Lambda(self, node):
        self.generic_visit(node)
        node.body = ast.copy_location(ast.BoolOp(ast.And(), [_helper(TICK, [], node.body), node.body]), node.body)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        node.args.insert(0, node.func)
        node.func = ast.copy_location(ast.Attribute(ast.Name(NAMESPACE, ast.Load()), CALL, ast.Load()), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if all(isinstance(side, ast.Constant) and isinstance(side.value, (int, float, complex))
               for side in (node.left, node.right)):
            return node  # numbers folded by the compiler; the sandbox's static checks bound them
        return _helper(type(node.op).__name__, [node.left, node.right], node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        name, target = type(node.op).__name__, node.target
        if isinstance(target, ast.Name):
            loaded = ast.copy_location(ast.Name(target.id, ast.Load()), target)
            call = _helper(f"i{name}", [loaded, node.value], node)
            return ast.copy_location(ast.Assign([target], call), node)
        if isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
            obj = target.value
            return ast.copy_location(ast.Expr(_helper(AUG_ITEM, [ast.Constant(name), obj, target.slice, node.value],
                                                      node)), node)
        raise Refused("augmented assignment to an attribute or a slice is not allowed")

    def visit_Subscript(self, node):
        self.generic_visit(node)
        index = node.slice
        if isinstance(index, ast.Slice):
            if isinstance(node.ctx, ast.Load):
                return _helper(SLICE, [node.value, _none(index.lower, node), _none(index.upper, node),
                                       _none(index.step, node)], node)
        elif not isinstance(index, ast.Constant) and not (
                isinstance(index, ast.Tuple) and any(isinstance(e, ast.Slice) for e in index.elts)):
            node.slice = _helper(KEY, [index], index)
        return node

    def visit_Starred(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _helper(STAR, [node.value], node.value)
        return node

    def visit_Dict(self, node):
        self.generic_visit(node)
        for i, (k, v) in enumerate(zip(node.keys, node.values, strict=True)):
            if k is None:
                node.values[i] = _helper(STAR, [v], v)
            elif not isinstance(k, ast.Constant):
                node.keys[i] = _helper(KEY, [k], k)
        return node

    def visit_Set(self, node):
        self.generic_visit(node)
        node.elts = [e if isinstance(e, (ast.Constant, ast.Starred)) else _helper(KEY, [e], e) for e in node.elts]
        return node

    def visit_SetComp(self, node):
        self.generic_visit(node)
        node.elt = _helper(KEY, [node.elt], node.elt)
        return node

    def visit_DictComp(self, node):
        self.generic_visit(node)
        node.key = _helper(KEY, [node.key], node.key)
        return node

    def visit_FormattedValue(self, node):
        self.generic_visit(node)
        node.value = _helper(FMT, [node.value], node.value)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        if all(_scalar(a) or _scalar(b) for a, b in zip(operands, operands[1:], strict=False)):
            return node  # `decision == "urge"`, `0 < n < 10`, `x in ("a", "b")`: no deep walk possible
        if not isinstance(node.left, ast.Constant):
            node.left = _helper(CMP, [node.left], node.left)
        node.comparators = [
            c if isinstance(c, ast.Constant)
            else _helper(CMP_IN if isinstance(op, (ast.In, ast.NotIn)) else CMP, [c], c)
            for op, c in zip(node.ops, node.comparators, strict=True)]
        return node
